# Snippet 05 of lessons/dl.md: the block at line 158 (lines 159-189).
# Made by `harness extract`; do not edit, regenerate. Runs on its own: the statements
# it needs from earlier blocks come first, each under the lesson line it came from.

# lessons/dl.md:72
import torch.nn as nn

# lessons/dl.md:93
class MLP(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.network = nn.Sequential(
            nn.Linear(input_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, output_size)
        )
    
    def forward(self, x):
        return self.network(x)

# lessons/dl.md:159 (the block, unchanged)
import torch
import torch.nn as nn
import torch.optim as optim

# Create model, loss function, and optimizer
model = MLP(input_size=10, hidden_size=64, output_size=3)
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)

# Training loop
def train_step(model, X_batch, y_batch):
    model.train()
    
    # Forward pass
    outputs = model(X_batch)
    loss = criterion(outputs, y_batch)
    
    # Backward pass
    optimizer.zero_grad()  # Clear previous gradients
    loss.backward()        # Compute gradients
    optimizer.step()       # Update weights
    
    return loss.item()

# Example training
X_train = torch.randn(100, 10)  # 100 samples
y_train = torch.randint(0, 3, (100,))  # 3 classes

for epoch in range(10):
    loss = train_step(model, X_train, y_train)
    print(f"Epoch {epoch+1}, Loss: {loss:.4f}")
