from notifier.cli import cli

cli()
