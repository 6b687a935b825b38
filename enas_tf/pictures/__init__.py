"""Pictures for people: architectures (`arc_pictures`: DOT text and PNGs) and the policy's
choice probabilities (`policy_pictures`: heatmaps for TensorBoard). matplotlib is imported only
when a picture is drawn."""
