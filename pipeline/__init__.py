"""discourse-shift: code official foreign-policy discourse into yearly indices."""

__version__ = "0.1.0"
