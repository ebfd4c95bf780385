"""What the code says before it runs: dependency map, snippets, lint."""
