import "./globals.css";

export const metadata = { title: "Tasks · Next.js + Better Auth + Latchkey" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        <main>{children}</main>
      </body>
    </html>
  );
}
