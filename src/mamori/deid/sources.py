"""The deid slice registers no subject data source.

It keeps no one's personal data: the de-identified files it writes live wherever the user put them, outside
mamori's stores, and its one table (``deid_datasets``) holds file hashes, column NAMES, counts, the purpose and
who ran it — never a record value. Its pseudonym keys (削除情報等, R-41-2) are system keys in the keystore, reached
only through :mod:`mamori.deid.service` after authorisation. A request from the person (rights) therefore has
nothing to disclose, correct or erase here; what a pseudonymised file says about someone is answered from the
source data it was made from.
"""
