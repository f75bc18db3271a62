"""Step modules of the lottery-ticket workflow."""
