from tools.instruments.compare.cli import main

main()
