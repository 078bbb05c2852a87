from bot.bot_cli import cli

cli()
