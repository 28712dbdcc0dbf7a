"""The rights slice registers no subject data source.

Its tables hold the requests a person made (本人からの請求), not data about the person kept for a business use:
claimed identifiers are keyed hashes plus, while a request is open, ciphertext under the request's own data key,
and the event log holds ids, kinds, counts and rule ids only (see ``mamori.rights.models``). The rights slice
iterates the other slices' sources (``mamori.kernel.registry.sources``) and erases its own request data itself
when it erases a person (``mamori.rights.service.forget.forget_person``), so nothing is registered here.
"""
