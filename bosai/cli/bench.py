"""(being written)"""


def register(cli):
    pass
