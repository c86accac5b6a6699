"""The one exception family the command line turns into a single line on stderr."""


class TwinauditError(Exception):
    """A problem with the user's input (file, field, column) rather than a bug.

    The message must fit on one line and name the file, field or column and what was expected:
    the CLI prints it as ``twinaudit: <message>`` and exits with status 2.
    """


class InputError(TwinauditError, ValueError):
    """An input that cannot be used as given: a results document, a rule, a setting.

    The gate knows it as ``GateInputError``; the command line reports it and exits with 2.
    """
