"""Space tests build many tiny networks: one torch thread is faster than contending for two cores."""

import torch

torch.set_num_threads(1)
