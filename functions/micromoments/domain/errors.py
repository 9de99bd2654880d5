"""Errors of the domain. Outer layers map them to exit codes or HTTP responses."""


class DomainError(ValueError):
    """Base class of every error the domain raises on bad input."""


class InvalidWorkingHours(DomainError):
    """A working-hours specification does not follow the grammar."""


class InvalidSetting(DomainError):
    """An org setting or a preference has an unknown key or a bad value."""


class UnknownTimeZone(DomainError):
    """A time zone name is not known to the IANA database."""
