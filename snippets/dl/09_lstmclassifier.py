# Snippet 09 of lessons/dl.md: the block at line 343 (lines 344-386).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:295
import torch

# lessons/dl.md:296
import torch.nn as nn

# lessons/dl.md:344 (the block, unchanged)
class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_size, num_classes):
        super().__init__()
        
        # Embedding layer for text
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        
        # LSTM layer
        self.lstm = nn.LSTM(
            input_size=embed_dim,
            hidden_size=hidden_size,
            num_layers=2,
            batch_first=True,
            dropout=0.3,
            bidirectional=True  # Process sequence both directions
        )
        
        # Output layer (bidirectional doubles hidden size)
        self.fc = nn.Linear(hidden_size * 2, num_classes)
    
    def forward(self, x):
        # x shape: [batch, seq_len] - token indices
        
        # Embed tokens
        embedded = self.embedding(x)  # [batch, seq_len, embed_dim]
        
        # LSTM forward pass
        lstm_out, (hidden, cell) = self.lstm(embedded)
        # lstm_out: [batch, seq_len, hidden_size*2]
        # hidden: [num_layers*2, batch, hidden_size]
        
        # Concatenate final hidden states from both directions
        hidden_cat = torch.cat([hidden[-2], hidden[-1]], dim=1)
        
        # Classification
        output = self.fc(hidden_cat)
        return output

# Example: Text classification
lstm_model = LSTMClassifier(vocab_size=10000, embed_dim=128, hidden_size=256, num_classes=3)
text_input = torch.randint(0, 10000, (16, 50))  # Batch=16, SeqLen=50
output = lstm_model(text_input)
print(f"LSTM output shape: {output.shape}")  # [16, 3]
