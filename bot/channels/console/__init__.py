"""Console channel: a terminal chat for trying parbot with no account, and for demos."""
