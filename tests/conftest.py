"""Suite-wide settings: one torch thread (small tensors on a shared 2-core CI machine run far faster so)."""
import torch

torch.set_num_threads(1)
