from tools.instruments.bench.cli import main

main()
