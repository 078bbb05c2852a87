from notifier.cli import cli
from notifier.commands import post, status_cmd, worker

cli.add_command(post)
cli.add_command(worker)
cli.add_command(status_cmd)

cli()
