"""Open311 GeoReport v2 under `/open311/v2/`: what municipal systems (FixMyStreet, SeeClickFix, city back
offices) use to list our categories, file cases and follow them.

`georeport` holds the routes, `rendering` the spec's JSON and XML shapes, `services` the categories as
services, `filing` the form-encoded POST that files a case, `repeats` a retried POST known again,
`queries` the GET parameters, `published` what the public may read of a case.
"""
