"""App manifests: apply_manifest, manifest_diff and an app's manifest, as CC reads and writes them."""
