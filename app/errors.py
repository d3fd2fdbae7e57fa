"""Domain exceptions carry a message a person can act on."""


class DomainError(ValueError):
    pass


class StaleEdit(DomainError):
    pass
