from vwaza_cli.cli.main import run

run()
