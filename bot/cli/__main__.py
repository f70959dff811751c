"""`python -m bot.cli`: the same as the `parbot` command."""

from bot.cli import main

main()
