from tools.instruments.scale.cli import main

main()
