"""The exit codes every `chipcast` command returns (fixed by the design's Contracts)."""

EXIT_OK = 0  # done
EXIT_PARTIAL = 1  # done, but some jobs failed or a fit was gated out (the site is still built)
EXIT_INVALID = 2  # invalid input or usage
EXIT_LOCKED = 3  # another refresh holds the lock
