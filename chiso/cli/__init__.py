"""The `chiso` command. Commands are thin: parse, call one service function, print."""
