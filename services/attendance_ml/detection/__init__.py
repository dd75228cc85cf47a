"""Object detection service: phones and ID cards in classroom and webcam frames."""
