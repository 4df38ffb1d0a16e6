"""The write side of the importers: validated records from :mod:`importers` (and
:mod:`surveys`) into the database.

Every import runs in one transaction (all or nothing), upserts by a stable ID so a re-import of
the same data changes nothing, and can run as a dry run that reports what would be added,
changed and left alone without writing.

==========================  ==================================================================
module                      writes
==========================  ==================================================================
``shelters``                shelters, merging GSI and standard-list duplicates
``occupancy``               head counts per shelter and snapshot, the incident, open periods
``hazard_zones``            flood and landslide zones
``jma_warnings``            JMA telegrams and the city's warnings; the JMA feed's freshness
``surveys``                 questionnaire responses and UI/UX timings parsed by :mod:`surveys`
``readback``                (reads) shelters and zones as DataFrames for ``analytics``
==========================  ==================================================================
"""
