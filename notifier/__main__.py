from notifier.cli import cli
from notifier.kpi.cli import kpi

cli.add_command(kpi)
cli()
