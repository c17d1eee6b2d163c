"""Pictures of a method's effect (``tenfold show <id> IMAGE --out grid.png``): one CliPlugin module per id."""
