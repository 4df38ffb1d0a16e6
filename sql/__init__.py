"""The data layer: engine, models, migrations, named queries and the personal-data policy.

Nothing above this package writes SQL or reads personal data except through it.
"""
