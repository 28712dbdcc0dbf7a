"""The monitoring slice (issue 25): the audit log watches itself.

Signals read back from the audit log (read volume against the person's own baseline, off-hours reads, a new
network, denials in a row, bulk exports, 要配慮 reads, a sales rep's search outside their book, a disabled
account's credential in use) become alerts the privacy officer handles; quarterly access reviews are kept as
records; a monthly governance report sums it up for the management. Nothing here holds a customer's value: alerts
name audit entries by their sequence numbers and counts.
"""
