# Never finish loading.
while True:
    pass
