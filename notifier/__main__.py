from notifier.cli import cli
from notifier.commands import post, status_cmd, worker
from notifier.kpi.cli import kpi

cli.add_command(post)
cli.add_command(worker)
cli.add_command(status_cmd)
cli.add_command(kpi)
cli()
