"""The Learn tab's notes: short, accurate notes on each family, each pointing at the tab that shows it.

Plain text (markdown with LaTeX), no Gradio: ui/learn.py shows them, glossary.py points into them by their headings.
"""
from __future__ import annotations

from .classmode.notes import CLASS_NOTES   # class mode's note, kept beside class mode

NOTES = r"""
### Autoencoder (AE): see it on **Draw** and **Latent map**
An encoder $f$ squeezes a 784-pixel image $x$ into a short code $z = f(x)$ (16 or 2 numbers here) and a
decoder $g$ rebuilds it. Training minimises the reconstruction loss, here the Bernoulli cross-entropy summed
over pixels:
$$\mathcal{L}_{AE}(x) = -\sum_{i=1}^{784} \big[x_i \log \hat{x}_i + (1 - x_i)\log(1 - \hat{x}_i)\big], \qquad \hat{x} = g(f(x)).$$
Nothing asks the codes to be arranged nicely, so the 2-D AE map on **Latent map** has gaps and odd shapes.

### The autoencoder zoo: see it on **AE zoo**
*Undercomplete* codes (16 numbers for 784 pixels) must keep only what matters. **PCA** is the linear autoencoder's
optimum: a linear encoder $z = W(x - \bar{x})$ and decoder $\hat{x} = W^\top z + \bar{x}$ trained for squared error
span the top principal components (Baldi & Hornik 1989), so here it is fitted in closed form, loss
$\sum_i \|x_i - \hat{x}_i\|^2$. A **dense** AE replaces the linear maps by fully connected networks; a **convolutional**
one by convolutions that look at local patterns wherever they are. An **overcomplete** code is wider than the input
(1,024 > 784): with no regulariser, nothing stops it from learning to copy, so a small reconstruction error says little.
Regularised overcomplete codes learn structure anyway: the **sparse** AE adds an L1 penalty on the code,
$$\mathcal{L}_{sparse}(x) = \ell\big(x, g(f(x))\big) + \lambda \sum_j |z_j|,$$
which drives most units of its (ReLU, non-negative) code to exactly zero; the **denoising** AE (next) learns by
undoing corruption.

### Denoising AE: see it on **Noise**
Corrupt the input, $\tilde{x} \sim q(\tilde{x} \mid x)$, and ask for the clean image back (Vincent et al. 2008):
$$\mathcal{L}_{DAE}(x) = \mathbb{E}_{\tilde{x} \sim q(\tilde{x}\mid x)}\, \ell\big(x, g(f(\tilde{x}))\big).$$
Ours was trained on a mix of Gaussian noise ($\tilde{x} = x + \sigma\epsilon$), salt and pepper, and masking
noise (each pixel set to 0 with probability $\nu$). The plain AE never saw noise, and it shows. The digits' DAE has
a 128-d code, wider than the AE's 16: a wide code copies noise only if training never punished it for that, and
the wider code keeps the strokes' detail (3 dB over a 3x3 median filter at $\sigma = 0.3$, where a 16-d code
managed 1.8).

### Variational AE (VAE): see it on **Draw** (its two loss terms), **Latent map** and **Generate**
The encoder outputs a distribution, $q_\phi(z \mid x) = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)$, and the
model maximises the evidence lower bound (Kingma & Welling 2014):
$$\log p(x) \ge \mathrm{ELBO} = \mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x \mid z)\big] - \mathrm{KL}\big(q_\phi(z \mid x)\,\|\,\mathcal{N}(0, I)\big).$$
With a Gaussian posterior and prior the KL has a closed form:
$$\mathrm{KL} = -\tfrac{1}{2}\sum_{j=1}^{d}\big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big).$$
To let gradients flow through the sampling, the **reparameterisation trick** writes
$z = \mu + \sigma \odot \epsilon$ with $\epsilon \sim \mathcal{N}(0, I)$. The KL term pulls every code towards
the prior, which is why its map is filled and why decoding $z \sim \mathcal{N}(0, I)$ gives new images.
A weight $\beta$ on the KL term trades sharper reconstructions ($\beta < 1$) for a smoother space ($\beta > 1$).

### Conditional VAE (CVAE): see it on **Generate** (the class grid) and **Latent sliders**
The class $y$, one-hot, is concatenated to the encoder's input and to the decoder's input (Sohn et al. 2015):
$q_\phi(z \mid x, y)$ and $p_\theta(x \mid z, y)$. The label carries *what*, so the code is free to carry *how*:
the same $z$ with a different $y$ keeps the style and changes the class. *If* the code leaves the class to the
label: with a 16-d code the digits' CVAE also stored some of the class in $z$, and a prior sample asked for a 1
came out lying flat, read as another digit (88 % of its samples were the asked digit). The shipped digits CVAE has
a 4-d code and $\beta = 3$, too little room for the class, and draws the asked digit 99 % of the time (its
reconstructions are blurrier: the lesson's price). The shipped Fashion CVAE keeps its 16-d code and instead feeds
the class to *every* decoder layer (beside the dense layers' inputs, as extra planes beside the convolutions'), so the
class cannot fade on its way through: its samples read as the asked class 85.5 % of the time instead of 82.0 %. The
rest are mostly sandals drawn so blurred they pass for boots or sneakers, and shirts, which the classifier reads right
on only 71 % of the *real* test shirts: the VAE's blur, not the condition, is the limit there.

### GAN (DCGAN): see it on **Generate**, **Interpolate** (the tour) and **Latent sliders**
A generator $G$ maps noise $z \sim \mathcal{N}(0, I)$ to images; a discriminator $D$ tells real from fake.
They play a minimax game (Goodfellow et al. 2014):
$$\min_G \max_D \; \mathbb{E}_{x \sim p_{data}}[\log D(x)] + \mathbb{E}_{z}[\log(1 - D(G(z)))].$$
Early on $D$ wins easily and $\log(1 - D(G(z)))$ saturates, so $G$ instead maximises $\log D(G(z))$, the
**non-saturating** loss: $\mathcal{L}_G = -\mathbb{E}_z[\log D(G(z))]$. A GAN has no encoder: it cannot
rebuild your drawing, only make new pictures, and its losses say little about how good they look.

### Class-conditional GAN (cGAN): see it on **Generate** (the cGAN grid)
The class $y$, one-hot, joins the noise at the generator's input, $G(z, y)$, and the discriminator sees it too
(Mirza & Osindero 2014). Given only as extra input planes, $D$ may ignore $y$ and judge realism alone, and then a
sharp picture of the *wrong* class passes. The shipped cGANs use a **projection discriminator** (Miyato & Koyama
2018): $D(x, y) = \psi(\phi(x)) + e_y^\top \phi(x)$, an inner product of a learned class embedding $e_y$ with $D$'s
features, so $D$ must judge whether $x$ looks like a real member of class $y$; and an **auxiliary classifier**
(AC-GAN, Odena et al. 2017): $D$ also names the class of real pictures, and $G$'s loss adds the cross-entropy of
that name on its fakes, $\mathcal{L}_G = -\log D(G(z, y), y) - \log p_D(y \mid G(z, y))$. The same $z$ in every
row of the grid keeps the style; the row's $y$ sets the class.

### How a GAN trains, and the Wasserstein GAN: see it on **Toy lab** and **Train**
For a fixed $G$ the best discriminator is $D^*(x) = p_{data}(x) / (p_{data}(x) + p_g(x))$, and with it the game's
value is $2\,\mathrm{JS}(p_{data} \,\|\, p_g) - \log 4$. When $G$ matches the data, $D^*(x) = 1/2$ everywhere (the
1-D lesson shows D flatten to 1/2). When the two distributions do **not overlap**, JS is stuck at $\log 2$ wherever
$G$ is: a near-perfect $D$ is flat around the fakes and the saturating loss $\log(1 - D(G(z)))$ gives $G$ almost no
gradient (the *disjoint supports* lessons: the gradient-norm curve falls to nothing and W1 does not move). Giving
$D$ more steps ($k$) per $G$ step makes this worse for the saturating loss.
The **Wasserstein GAN** (Arjovsky et al. 2017) replaces JS by the earth mover's distance
$$W_1(p_{data}, p_g) = \sup_{\|C\|_L \le 1} \; \mathbb{E}_{x \sim p_{data}}[C(x)] - \mathbb{E}_{z}[C(G(z))],$$
estimated by a *critic* $C$ (no sigmoid) kept 1-Lipschitz, first by clipping its weights to $[-c, c]$ (RMSprop, 5
critic steps per $G$ step), then by a **gradient penalty** $\lambda\,(\|\nabla_{\hat x} C(\hat x)\| - 1)^2$ on points
between real and fake (WGAN-GP, Gulrajani et al. 2017). $W_1$ shrinks smoothly as $G$ moves closer, overlap or not,
so $G$ always has a direction, and the critic's loss tracks sample quality: the **Train** tab plots, for every GAN
run, the Frechet distance of 1,000 samples each epoch beside the losses. **Mode collapse**: $G$ may cover a few modes
of a mixture and ignore the rest (the ring of 8 counts the modes covered).
Because the two players chase each other, $G$'s weights circle around a good point rather than settle on it. Two
cheap remedies (Train tab, `--lr-schedule cosine` and `--ema`): let the learning rate fall to 0 by the last step,
and keep an **exponential moving average** of $G$'s weights, $\bar\theta \leftarrow \beta\,\bar\theta + (1 - \beta)\,\theta$
with $\beta = 0.999$ (Yazici et al. 2019), and draw with $\bar\theta$: the average sits nearer the centre of the circle.
"""

CONTEXT_NOTES = r"""
### Context encoder: see it on **Upload** (inpainting)
A network that sees a picture with a hole, and where the hole is, and paints the hole (Pathak et al. 2016). With a
squared error on the hole alone, $\mathcal{L}_{rec} = \|(1 - M) \odot (x - F((1 - M) \odot x))\|^2$, the best
answer is the *average* of every filling that fits, a blur. The context encoder adds an adversarial term: a
discriminator $D$ judges the filled picture, and the filler is trained on
$$\mathcal{L} = 0.999\,\mathcal{L}_{rec} + 0.001\,\mathcal{L}_{adv}, \qquad \mathcal{L}_{adv} = -\log D(\text{filled}),$$
which pushes towards one sharp filling instead. The paper's bottleneck is a *channel-wise fully connected* layer:
each feature map of the encoder is mapped, whole, to a new map, so every position of the hole can draw on every
position of the rim, at a fraction of a dense layer's weights. The shipped ones put that layer at the bottom of a
**U-Net** (pix2pix's), whose skip connections hand the rim to the output at full resolution, so a stroke that
enters the hole continues where it entered. The Upload tab shows it beside its L2-only twin (the blur), the VAE
(which optimises its code against the known pixels), the AE and the PixelCNN (which draws one of many fillings).
"""

PIX2PIX_NOTES = r"""
### pix2pix, sketch to picture: see it on **Sketch**
A *conditional* GAN: the generator sees an input picture, here an edge map $s$, and must produce the matching
picture $x$; the discriminator judges *pairs* $(s, x)$, so a sharp picture that ignores the sketch is caught too
(Isola et al. 2017). The generator's loss is
$$\mathcal{L}_G = \mathbb{E}\big[-\log D(s, G(s))\big] + \lambda\, \mathbb{E}\big[\|x - G(s)\|_1\big], \qquad \lambda = 100.$$
The L1 term keeps the picture faithful to the sketch; alone, it settles for the median of every picture that fits
(the L1-only twin beside it is the blur). The generator is a **U-Net**: an encoder-decoder whose skip connections
carry the sketch's fine positions straight to the output. The discriminator is a **PatchGAN**: it scores each
16x16 patch of the pair as real or fake (a 7x7 grid of answers), which is all it needs to demand sharp texture,
with far fewer weights than a whole-picture judge. The training sketches are made from the training pictures by
one edge function (a silhouette's outline plus its strong inner edges), and what you draw goes through the same
function, so your outline looks like what the model learned from.
"""

PIXELCNN_NOTES = r"""
### PixelCNN (autoregressive): see it on **Generate** (pixel by pixel), **Complete** and **Draw** (exact nats)
No code $z$ at all: the chain rule of probability writes any distribution over the 784 pixels, taken in reading
order, as a product of one-pixel distributions (van den Oord et al. 2016):
$$p(x) = \prod_{i=1}^{784} p(x_i \mid x_1, \dots, x_{i-1}).$$
A convolutional network outputs all 784 factors in one pass, provided the output at pixel $i$ never looks at pixel
$i$ or any later one. **Masked convolutions** do this: the first layer's kernel is zero at its centre and after it
(mask A); later layers may see their own position, which only ever holds information from earlier pixels (mask B).
Ours is the *gated* PixelCNN: a vertical stack sees the rows above, a horizontal stack the pixels to the left in
the same row, so there is no blind spot. The picture shows, for one layer of three, which pixels an output may see
(found by asking autograd, on this very code): blue seen, red the pixel being predicted, dark unseen.

The network reads each factor two ways. A Bernoulli on the grey value, the same cross-entropy the VAE's decoder
uses, so the two models' nats compare directly: the Draw tab shows these. And, in the grey-level checkpoints, a
distribution over the pixel's 256 grey levels (a mixture of logistics cut into 256 bins, PixelCNN++, Salimans et
al. 2017): Generate and Complete draw from it, at temperature 1. The likelihood is **exact**:
$-\log p(x) = -\sum_i \log p(x_i \mid x_{<i})$ (the Draw tab shows it). The VAE only gives a bound,
$-\log p(x) \le -\mathrm{ELBO}$. The price: sampling is **sequential**, 784 passes of the network, one per pixel
(a VAE needs one decoder pass), and completion can only condition on the pixels *before* the hole in reading order.
"""

DIFFUSION_NOTES = r"""
### Diffusion (DDPM, DDIM) and flow matching: see it on **Diffusion**, **Toy lab** (in 1-D and 2-D) and **Train**
**The forward process** destroys a picture $x$ (scaled to $[-1, 1]$) with Gaussian noise, in closed form at any
noise level $t \in [0, 1]$:
$$x_t = \alpha_t\, x + \sigma_t\, \epsilon, \qquad \epsilon \sim \mathcal{N}(0, I), \qquad
\alpha_t^2 = \bar\alpha(t), \quad \sigma_t^2 = 1 - \bar\alpha(t),$$
with the cosine schedule $\bar\alpha(t) = f(t)/f(0)$, $f(t) = \cos^2\!\big(\tfrac{t + 0.008}{1.008}\tfrac{\pi}{2}\big)$
(Nichol & Dhariwal 2021): $t = 0$ is the picture, $t = 1$ pure noise, and the signal-to-noise ratio
$\mathrm{SNR}(t) = \alpha_t^2 / \sigma_t^2$ falls all the way. No network is needed to go forward.

**The loss.** A U-Net $\epsilon_\theta(x_t, t, y)$ learns to name the noise in a noised picture (Ho et al. 2020):
$$\mathcal{L} = \mathbb{E}_{x, t, \epsilon}\,\big\|\epsilon - \epsilon_\theta(\alpha_t x + \sigma_t \epsilon,\ t)\big\|^2 .$$
Two readings of it tie it to the families above. It is **the denoising autoencoder's cousin**: naming the noise is
cleaning the picture, $\hat{x} = (x_t - \sigma_t \epsilon_\theta)/\alpha_t$, and a denoiser trained at noise level
$\sigma$ learns the *score* of the noised data, $\epsilon_\theta \approx -\sigma_t \nabla_{x_t} \log p_t(x_t)$
(Vincent 2011, denoising score matching), here at every level at once, the level given as an input. And it is
**the VAE's cousin**: take $x_t$ at many levels as a deep hierarchy of latent codes, with a fixed encoder (the
forward process) and a learned decoder $p_\theta(x_{t-\Delta} \mid x_t)$; the ELBO of that hierarchical VAE is a sum
of KL terms between Gaussians, each a weighted $\|\epsilon - \epsilon_\theta\|^2$, and the loss above is that ELBO
with the weights dropped.

**Drawing** walks down the levels from pure noise. Ancestral DDPM samples $x_{t-\Delta}$ from the learned
Gaussian, fresh noise at every step. **DDIM** (Song et al. 2021) takes the deterministic step
$$x_s = \alpha_s\, \hat{x}_0 + \sigma_s\, \hat\epsilon, \qquad \hat{x}_0 = (x_t - \sigma_t \hat\epsilon)/\alpha_t,$$
which is valid between *any* two levels $s < t$: the same network draws in 1,000, 50 or 10 steps, each step one
network pass (two with guidance). Too few steps and the picture comes out as the blurred average $\hat{x}_0$ makes.

**Flow matching** (Lipman et al. 2023; rectified flow, Liu et al. 2023) uses the straight line instead,
$x_t = (1 - t)\, x + t\, \epsilon$, along which the picture moves at the constant velocity $x - \epsilon$; the same
U-Net learns it, $\mathcal{L} = \mathbb{E}\,\|v_\theta(x_t, t) - (x - \epsilon)\|^2$, and drawing follows it with
Euler steps $x_s = x_t + (t - s)\, v_\theta(x_t, t)$ (Heun's method: two passes a step, closer). The learned field is
the average of the straight lines through each point, so its paths bend only where lines cross: they are nearly
straight, and a few large steps land near a picture. The diffusion path $\alpha_t x + \sigma_t \epsilon$ curves (a
quarter circle between picture and noise, since $\alpha_t^2 + \sigma_t^2 = 1$), so its few-step walks cut corners.

**Classifier-free guidance** (Ho & Salimans 2022): during training the class is dropped for 10 % of the pictures
(a "no class" token), so one network answers both with and without the class; drawing mixes the two,
$$\hat\epsilon = (1 + w)\, \epsilon_\theta(x_t, t, y) - w\, \epsilon_\theta(x_t, t, \varnothing),$$
$w = 0$ being the plain conditional model. A larger $w$ pushes away from what any class would give, towards pictures
typical of $y$: easier to read, less varied. It costs a second network pass per step.
"""


# in the order the Learn tab shows them (ui/learn.py)
ALL_NOTES = (NOTES, CONTEXT_NOTES, PIX2PIX_NOTES, DIFFUSION_NOTES, PIXELCNN_NOTES, CLASS_NOTES)
