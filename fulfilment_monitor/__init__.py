"""fulfilment_monitor: catch broken delivery promises before the customer has to chase them."""
__version__ = "0.1.0"
