"""The directory as Open Referral UK (HSDS 3.0, UK profile): published read-only at
`/openreferral/v3`, and imported from other directories' feeds.

Translation at the edge: what is published and what is imported goes through the same
directory service (`app.services.directory`) as the API and the staff pages.
"""
