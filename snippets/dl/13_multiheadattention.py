# Snippet 13 of lessons/dl.md: the block at line 509 (lines 510-559).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:427
import torch

# lessons/dl.md:428
import torch.nn as nn

# lessons/dl.md:429
import torch.nn.functional as F

# lessons/dl.md:462
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

# lessons/dl.md:510 (the block, unchanged)
class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        assert d_model % num_heads == 0
        
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        
        # Linear projections for Q, K, V
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        
        # Output projection
        self.W_o = nn.Linear(d_model, d_model)
        
        self.attention = ScaledDotProductAttention(self.d_k)
    
    def forward(self, query, key, value, mask=None):
        batch_size = query.size(0)
        
        # Linear projections and reshape for multi-head
        Q = self.W_q(query).view(batch_size, -1, self.num_heads, self.d_k).transpose(1, 2)
        K = self.W_k(key).view(batch_size, -1, self.num_heads, self.d_k).transpose(1, 2)
        V = self.W_v(value).view(batch_size, -1, self.num_heads, self.d_k).transpose(1, 2)
        # Q, K, V shape: [batch, num_heads, seq_len, d_k]
        
        # Reshape for batch matrix multiplication
        Q = Q.reshape(batch_size * self.num_heads, -1, self.d_k)
        K = K.reshape(batch_size * self.num_heads, -1, self.d_k)
        V = V.reshape(batch_size * self.num_heads, -1, self.d_k)
        
        # Apply attention
        attended, weights = self.attention(Q, K, V, mask)
        
        # Reshape back
        attended = attended.view(batch_size, self.num_heads, -1, self.d_k)
        attended = attended.transpose(1, 2).contiguous().view(batch_size, -1, self.d_model)
        
        # Final linear projection
        output = self.W_o(attended)
        
        return output

# Example
mha = MultiHeadAttention(d_model=512, num_heads=8)
x = torch.randn(4, 30, 512)  # Batch=4, SeqLen=30, Dim=512
output = mha(x, x, x)  # Self-attention
print(f"Multi-head attention output: {output.shape}")  # [4, 30, 512]
