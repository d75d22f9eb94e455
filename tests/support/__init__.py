"""What the tests share: factories, clients, fakes and reference implementations."""
