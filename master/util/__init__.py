"""Small pieces every component shares: clock, metrics listener, logging set-up."""
