"""customers: people, contact points, attributes, activities, provenance, import and dedupe.

Every personal value is stored encrypted under the person's data key (kernel.crypto); exact-match search uses
blind indexes. Reads go through the policy with a declared purpose and are audited.
"""
