from kpi.kpi_cli import kpi
from notifier.notifier_cli import cli
from notifier.post_commands import post, status_cmd, worker

cli.add_command(post)
cli.add_command(worker)
cli.add_command(status_cmd)
cli.add_command(kpi)
cli()
