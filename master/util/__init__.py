"""Small pieces every component shares: clock, metrics listener, PKI, join tokens, the event
loop choice, atomic file writes (files), ending tasks (tasks), and the settings handed to a
relaunched component process (launch)."""
