# Snippet 12 of lessons/dl.md: the block at line 461 (lines 462-502).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:427
import torch

# lessons/dl.md:428
import torch.nn as nn

# lessons/dl.md:429
import torch.nn.functional as F

# lessons/dl.md:462 (the block, unchanged)
class ScaledDotProductAttention(nn.Module):
    def __init__(self, d_k):
        super().__init__()
        self.scale = d_k ** 0.5
    
    def forward(self, query, key, value, mask=None):
        """
        Args:
            query: [batch, seq_len, d_k]
            key: [batch, seq_len, d_k]
            value: [batch, seq_len, d_v]
            mask: Optional mask for padding or causal attention
        """
        # Compute attention scores
        scores = torch.bmm(query, key.transpose(1, 2)) / self.scale
        # scores: [batch, seq_len, seq_len]
        
        # Apply mask if provided
        if mask is not None:
            scores = scores.masked_fill(mask == 0, float('-inf'))
        
        # Softmax to get attention weights
        attention_weights = F.softmax(scores, dim=-1)
        
        # Weighted sum of values
        output = torch.bmm(attention_weights, value)
        
        return output, attention_weights

# Example usage
d_k = 64
attention = ScaledDotProductAttention(d_k)

batch_size, seq_len = 8, 20
Q = torch.randn(batch_size, seq_len, d_k)
K = torch.randn(batch_size, seq_len, d_k)
V = torch.randn(batch_size, seq_len, d_k)

output, weights = attention(Q, K, V)
print(f"Attention output shape: {output.shape}")  # [8, 20, 64]
print(f"Attention weights shape: {weights.shape}")  # [8, 20, 20]
