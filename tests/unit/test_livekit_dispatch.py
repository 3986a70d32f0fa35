"""Dispatch mode's bot command line: a room name is never read as an option."""

from bot.rooms.processes import bot_command


def test_the_bot_command_cannot_be_confused_by_a_room_name():
    argv = bot_command("--offline")
    assert argv[-1] == "--room=--offline"
