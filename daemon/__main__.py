from daemon.main import run

run()
