from faq.faq_cli import cli

cli()
