from faq.cli import cli

cli()
