"""What the product does. The CLI and the daemon both call these functions; they own every rule."""
