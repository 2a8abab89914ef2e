"""nftables as values (``expr``, ``stmt``, ``ruleset``), the ops of a transaction and the
plans that produce them (``ops``), their netlink encoding (``wire``), and the ``Netfilter``
seam with its kernel and in-memory implementations (``kernel``, ``fake``)."""
