"""What auditors read across the product: the release record, the release-history report and the trail browser."""
