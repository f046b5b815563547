from firmscout.cli import app

app()
