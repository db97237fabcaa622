pool_Hout = r"H_{out} = 1 + \frac{H - pool_height}{stride}"
