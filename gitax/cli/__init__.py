"""Layer 6, cli: click commands that parse, call one library function, and print."""
